# Rule 18: a registered name is unique; it is removed at termination, after which lookups
# return nothing and another process may take it.
defmodule R18 do
  def run do
    parent = self()
    h =
      spawn(fn ->
        Process.register(self(), :r18_n)
        send(parent, :registered)
        receive do: (:stop -> :ok)
      end)
    receive do: (:registered -> :ok)
    second =
      try do
        Process.register(self(), :r18_n)
        "ok"
      rescue
        ArgumentError -> "ArgumentError"
      end
    IO.puts("r18 second register of a held name: #{second}")
    IO.puts("r18 whereis while held: holder=#{Process.whereis(:r18_n) == h}")
    ref = Process.monitor(h)
    send(h, :stop)
    receive do: ({:DOWN, ^ref, _, _, _} -> :ok)
    IO.puts("r18 whereis after holder died: #{inspect(Process.whereis(:r18_n))}")
    Process.register(self(), :r18_n)
    IO.puts("r18 register after holder died: ok, holder=#{Process.whereis(:r18_n) == self()}")
  end
end

R18.run()
