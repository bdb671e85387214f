# Ordering 21: send_after(self(), :timer, 0) followed by send(self(), :msg); and a 1000 ms
# timer against a message another process sends after sleeping 10 ms.
defmodule O21 do
  def run do
    Process.send_after(self(), :timer, 0)
    send(self(), :msg)
    IO.puts("o21 send_after 0 then send: received #{inspect(take(2))}")
    me = self()
    Process.send_after(me, :timer, 1000)
    spawn(fn ->
      Process.sleep(10)
      send(me, :msg)
    end)
    IO.puts("o21 send_after 1000 vs message after 10 ms: received #{inspect(take(2))}")
  end

  defp take(0), do: []
  defp take(n), do: [receive(do: (m when m in [:timer, :msg] -> m)) | take(n - 1)]
end

O21.run()
