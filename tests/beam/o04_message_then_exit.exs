# Ordering 4: the parent sends :hello and then exit(p, :boom) to a non-trapping P blocked in
# a receive that would forward what it gets; the exit signal is handled before P runs again,
# so P dies with :boom and never reports the message.
defmodule O04 do
  def run do
    parent = self()
    p =
      spawn(fn ->
        receive do: (m -> send(parent, {:got, m}))
        receive do: (:never -> :ok)
      end)
    ref = Process.monitor(p)
    # P must be blocked in its receive, and must not run between the two signals: on 2+
    # schedulers it sometimes does (see stress/RESULTS.md), so keep one scheduler online and
    # send both right after waking from a sleep (a fresh time slice).
    :erlang.system_flag(:schedulers_online, 1)
    wait_waiting(p)
    send(p, :hello)
    Process.exit(p, :boom)
    receive do
      {:DOWN, ^ref, :process, ^p, r} -> IO.puts("o04 message then exit: DOWN #{inspect(r)}")
    end
    receive do
      {:got, m} -> IO.puts("o04 message then exit: P reported #{inspect(m)}")
    after
      0 -> IO.puts("o04 message then exit: P reported nothing")
    end
  end

  defp wait_waiting(p) do
    Process.sleep(1)
    if Process.info(p, :status) == {:status, :waiting}, do: :ok, else: wait_waiting(p)
  end
end

O04.run()
