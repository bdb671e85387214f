# Ordering 10: Process.exit(self(), :normal) in a non-trapping process does terminate it
# (unlike :normal from another process), with reason :normal; code after it does not run.
defmodule O10 do
  def run do
    parent = self()
    p =
      spawn(fn ->
        receive do: (:go -> :ok)
        Process.exit(self(), :normal)
        send(parent, :after)
        receive do: (:never -> :ok)
      end)
    ref = Process.monitor(p)
    send(p, :go)
    receive do
      {:DOWN, ^ref, :process, ^p, r} -> IO.puts("o10 exit(self(), :normal): DOWN #{inspect(r)}")
    after
      500 -> IO.puts("o10 exit(self(), :normal): still alive")
    end
    receive do
      :after -> IO.puts("o10 exit(self(), :normal): code after it ran")
    after
      100 -> IO.puts("o10 exit(self(), :normal): code after it did not run")
    end
  end
end

O10.run()
