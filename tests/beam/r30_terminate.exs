# Rule 30: terminate runs when a callback stops or exits, or when a trapping server gets its
# parent's exit; not on kill, not when a non-trapping server is killed by a signal.
defmodule R30.S do
  use GenServer
  def init({test, trap}) do
    Process.flag(:trap_exit, trap)
    {:ok, test}
  end
  def handle_call(:sync, _from, t), do: {:reply, :ok, t}
  def handle_cast({:stop, r}, t), do: {:stop, r, t}
  def handle_cast({:exit, r}, _t), do: exit(r)
  def terminate(r, t), do: send(t, {:terminate, r})
end

defmodule R30 do
  def outcome(s, ref) do
    r =
      receive do
        {:DOWN, ^ref, :process, _, r} -> r
      end
    t =
      receive do
        {:terminate, tr} -> "terminate #{inspect(tr)}"
      after
        0 -> "no terminate"
      end
    _ = s
    "#{t}, exited #{inspect(r)}"
  end

  def run do
    Logger.configure(level: :none)
    test = self()
    {:ok, s} = GenServer.start(R30.S, {test, false})
    ref = Process.monitor(s)
    GenServer.cast(s, {:stop, :boom})
    IO.puts("r30 callback stops :boom: #{outcome(s, ref)}")
    {:ok, s} = GenServer.start(R30.S, {test, false})
    ref = Process.monitor(s)
    GenServer.cast(s, {:exit, :boom})
    IO.puts("r30 callback exits :boom: #{outcome(s, ref)}")
    parent =
      spawn(fn ->
        {:ok, s} = GenServer.start_link(R30.S, {test, true})
        send(test, {:server, s})
        receive do: (:go -> exit(:boom))
      end)
    s = receive do: ({:server, s} -> s)
    ref = Process.monitor(s)
    :ok = GenServer.call(s, :sync)
    send(parent, :go)
    IO.puts("r30 trapping, parent exits :boom: #{outcome(s, ref)}")
    {:ok, s} = GenServer.start(R30.S, {test, true})
    ref = Process.monitor(s)
    Process.exit(s, :kill)
    IO.puts("r30 trapping, killed: #{outcome(s, ref)}")
    {:ok, s} = GenServer.start(R30.S, {test, false})
    ref = Process.monitor(s)
    Process.exit(s, :boom)
    IO.puts("r30 non-trapping, exit signal :boom: #{outcome(s, ref)}")
  end
end

R30.run()
