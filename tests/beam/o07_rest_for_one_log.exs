# Ordering 7: a rest_for_one supervisor over a, b, c; each child logs "start X" in init and
# "stop X" in terminate (trapping exits). Killing b stops c (b, killed, runs no terminate),
# then restarts b and c in order. The log records the exact causal sequence.
defmodule O07.W do
  use GenServer
  def start_link(name), do: GenServer.start_link(__MODULE__, name, name: name)
  def init(name) do
    Process.flag(:trap_exit, true)
    Agent.update(:o07_log, &(&1 ++ ["start #{name}"]))
    {:ok, name}
  end
  def terminate(_r, name), do: Agent.update(:o07_log, &(&1 ++ ["stop #{name}"]))
end

defmodule O07 do
  def run do
    Logger.configure(level: :none)
    {:ok, _} = Agent.start_link(fn -> [] end, name: :o07_log)
    children = for n <- [:o07_a, :o07_b, :o07_c], do: %{id: n, start: {O07.W, :start_link, [n]}}
    {:ok, _sup} = Supervisor.start_link(children, strategy: :rest_for_one)
    b = Process.whereis(:o07_b)
    c = Process.whereis(:o07_c)
    rb = Process.monitor(b)
    rc = Process.monitor(c)
    Process.exit(b, :kill)
    receive do: ({:DOWN, ^rb, :process, _, r} -> IO.puts("o07 b: DOWN #{inspect(r)}"))
    receive do: ({:DOWN, ^rc, :process, _, r} -> IO.puts("o07 c (stopped by supervisor): DOWN #{inspect(r)}"))
    wait_restarted(c)
    IO.puts("o07 log: #{inspect(Agent.get(:o07_log, & &1))}")
  end

  # the restart of c is the last step; its init logs before start_link returns to the sup
  defp wait_restarted(old_c) do
    case Process.whereis(:o07_c) do
      pid when is_pid(pid) and pid != old_c -> :sys.get_state(pid)
      _ -> Process.sleep(1); wait_restarted(old_c)
    end
  end
end

O07.run()
