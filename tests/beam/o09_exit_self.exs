# Ordering 9: Process.exit(self(), :boom) in a non-trapping process kills it before the
# call returns: a message sent before it arrives, one sent after it is never sent.
defmodule O09 do
  def run do
    parent = self()
    p =
      spawn(fn ->
        receive do: (:go -> :ok)
        send(parent, :before)
        Process.exit(self(), :boom)
        send(parent, :after)
      end)
    ref = Process.monitor(p)
    send(p, :go)
    receive do
      {:DOWN, ^ref, :process, ^p, r} -> IO.puts("o09 exit(self(), :boom): DOWN #{inspect(r)}")
    end
    IO.puts("o09 exit(self(), :boom): parent received #{inspect(drain([]))}")
  end

  defp drain(acc) do
    receive do
      m when m in [:before, :after] -> drain([m | acc])
    after
      100 -> Enum.reverse(acc)
    end
  end
end

O09.run()
