# Rule 14: each monitor call is an independent monitor with a fresh reference; each gets
# its own DOWN with the exit reason; monitoring a dead pid gives DOWN :noproc at once.
defmodule R14 do
  def run do
    p = spawn(fn -> receive do: ({:die, r} -> exit(r)) end)
    m1 = Process.monitor(p)
    m2 = Process.monitor(p)
    IO.puts("r14 two monitors: refs distinct=#{m1 != m2}")
    send(p, {:die, :boom})
    receive do
      {:DOWN, ^m1, :process, ^p, r} -> IO.puts("r14 first monitor: DOWN #{inspect(r)}")
    end
    receive do
      {:DOWN, ^m2, :process, ^p, r} -> IO.puts("r14 second monitor: DOWN #{inspect(r)}")
    end
    m3 = Process.monitor(p)
    receive do
      {:DOWN, ^m3, :process, ^p, r} -> IO.puts("r14 monitor of dead pid: DOWN #{inspect(r)}")
    end
    q = spawn(fn -> receive do: (:go -> :ok) end)
    m4 = Process.monitor(q)
    send(q, :go)
    receive do
      {:DOWN, ^m4, :process, ^q, r} -> IO.puts("r14 returning process: DOWN #{inspect(r)}")
    end
  end
end

R14.run()
