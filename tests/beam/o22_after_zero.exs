# Ordering 22: a message sent to self is in the mailbox when send returns, so a following
# receive ... after 0 sees it.
defmodule O22 do
  def run do
    send(self(), :x)
    r =
      receive do
        :x -> :seen
      after
        0 -> :timeout
      end
    IO.puts("o22 send to self then receive after 0: #{inspect(r)}")
  end
end

O22.run()
