# Ordering 14: exit(p, :kill) on a process both monitored and linked to a trapping process:
# the monitor sees DOWN :killed and the trapping link partner sees EXIT :killed.
defmodule O14 do
  def run do
    Process.flag(:trap_exit, true)
    p = spawn_link(fn -> receive do: (:never -> :ok) end)
    ref = Process.monitor(p)
    Process.exit(p, :kill)
    receive do
      {:DOWN, ^ref, :process, ^p, r} -> IO.puts("o14 kill: DOWN #{inspect(r)}")
    end
    receive do
      {:EXIT, ^p, r} -> IO.puts("o14 kill: trapping link partner EXIT #{inspect(r)}")
    end
  end
end

O14.run()
