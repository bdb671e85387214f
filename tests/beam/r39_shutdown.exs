# Rule 39: a supervisor shuts a child down by sending exit(child, :shutdown) (or :kill for
# brutal_kill), waits up to the shutdown timeout for DOWN, then kills it. A deliberate
# termination never triggers a restart.
defmodule R39.W do
  use GenServer
  def start_link({id, trap, delay, test}), do: GenServer.start_link(__MODULE__, {id, trap, delay, test})
  def init({id, trap, delay, test}) do
    if trap, do: Process.flag(:trap_exit, true)
    send(test, {:init, id, self()})
    {:ok, {id, delay, test}}
  end
  def handle_call(:ping, _from, s), do: {:reply, :pong, s}
  def terminate(r, {id, delay, test}) do
    Process.sleep(delay)
    send(test, {:terminate, id, r})
  end
end

defmodule R39 do
  def run do
    Logger.configure(level: :none)
    test = self()
    kids = [
      {:trapping, true, 0, 5000},
      {:plain, false, 0, 5000},
      {:brutal, true, 0, :brutal_kill},
      {:slow_within_timeout, true, 50, 500},
      {:slow_past_timeout, true, 1000, 100}
    ]
    children =
      for {id, trap, delay, shutdown} <- kids do
        %{id: id, start: {R39.W, :start_link, [{id, trap, delay, test}]}, shutdown: shutdown}
      end
    {:ok, sup} = Supervisor.start_link(children, strategy: :one_for_one)
    pids = for {id, _, _, _} <- kids, into: %{}, do: receive(do: ({:init, ^id, p} -> {id, p}))
    for {id, _, _, shutdown} <- kids do
      ref = Process.monitor(pids[id])
      :pong = GenServer.call(pids[id], :ping)
      :ok = Supervisor.terminate_child(sup, id)
      r = receive do: ({:DOWN, ^ref, _, _, r} -> r)
      t =
        receive do
          {:terminate, ^id, tr} -> inspect(tr)
        after
          0 -> "none"
        end
      IO.puts("r39 #{id} (shutdown #{inspect(shutdown)}): DOWN #{inspect(r)}, terminate #{t}")
    end
    Process.sleep(200)
    running = Supervisor.which_children(sup) |> Enum.count(fn {_, p, _, _} -> is_pid(p) end)
    IO.puts("r39 after terminate_child: children running=#{running}, supervisor alive=#{Process.alive?(sup)}")
  end
end

R39.run()
