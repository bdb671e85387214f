# Ordering 1: a child spawned with plain spawn that returns at once, monitored right after
# the spawn returns: the child has not run yet, so the monitor is set first and DOWN says
# :normal (the :noproc alternative is measured in stress/spawn_then_monitor.exs).
defmodule O01 do
  def run do
    # On 2+ schedulers the child can run in parallel between spawn and monitor (rare, see
    # stress/RESULTS.md); with one scheduler online and a fresh time slice it cannot.
    :erlang.system_flag(:schedulers_online, 1)
    Process.sleep(1)
    child = spawn(fn -> :ok end)
    ref = Process.monitor(child)
    receive do
      {:DOWN, ^ref, :process, ^child, r} -> IO.puts("o01 spawn then monitor (child returns): DOWN #{inspect(r)}")
    end
  end
end

O01.run()
