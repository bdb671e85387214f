# Ordering 2: as o01, but the child calls exit(:boom) at once; the monitor set right after
# spawn returns sees the real reason.
defmodule O02 do
  def run do
    # On 2+ schedulers the child can run in parallel between spawn and monitor (rare, see
    # stress/RESULTS.md); with one scheduler online and a fresh time slice it cannot.
    :erlang.system_flag(:schedulers_online, 1)
    Process.sleep(1)
    child = spawn(fn -> exit(:boom) end)
    ref = Process.monitor(child)
    receive do
      {:DOWN, ^ref, :process, ^child, r} -> IO.puts("o02 spawn then monitor (child exits :boom): DOWN #{inspect(r)}")
    end
  end
end

O02.run()
