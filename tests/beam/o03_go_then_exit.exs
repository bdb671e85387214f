# Ordering 3: P waits for :go and only then traps exits. The parent sends :go and at once
# exit(p, :boom): both signals come from one sender, in order, and P handles the exit signal
# before it gets to run the code after its receive, so the exit is not trapped.
defmodule O03 do
  def run do
    parent = self()
    p =
      spawn(fn ->
        receive do: (:go -> :ok)
        Process.flag(:trap_exit, true)
        receive do
          {:EXIT, _, r} -> send(parent, {:trapped, r})
        after
          200 -> send(parent, :no_exit)
        end
      end)
    ref = Process.monitor(p)
    # P must be blocked in its receive, and must not run between the two signals: on 2+
    # schedulers it sometimes does (see stress/RESULTS.md), so keep one scheduler online and
    # send both right after waking from a sleep (a fresh time slice).
    :erlang.system_flag(:schedulers_online, 1)
    wait_waiting(p)
    send(p, :go)
    Process.exit(p, :boom)
    receive do
      {:DOWN, ^ref, :process, ^p, r} -> IO.puts("o03 :go then exit :boom: DOWN #{inspect(r)}")
    end
    receive do
      m -> IO.puts("o03 :go then exit :boom: P reported #{inspect(m)}")
    after
      0 -> IO.puts("o03 :go then exit :boom: P reported nothing")
    end
  end

  defp wait_waiting(p) do
    Process.sleep(1)
    if Process.info(p, :status) == {:status, :waiting}, do: :ok, else: wait_waiting(p)
  end
end

O03.run()
