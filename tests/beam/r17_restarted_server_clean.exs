# Rule 17: links and monitors belong to their owner and vanish when it dies; a restarted
# server starts with no monitors and no links except to its supervisor.
defmodule R17.W do
  use GenServer
  def init(_), do: {:ok, nil}
  def handle_call({:link_and_monitor, a, b}, _from, s) do
    Process.link(a)
    Process.monitor(b)
    {:reply, :ok, s}
  end
end

defmodule R17 do
  def run do
    Process.flag(:trap_exit, true)
    parent = self()
    {:ok, sup} = Supervisor.start_link([%{id: :w, start: {GenServer, :start_link, [R17.W, nil, [name: :r17_w]]}}], strategy: :one_for_one)
    w1 = Process.whereis(:r17_w)
    a =
      spawn(fn ->
        Process.flag(:trap_exit, true)
        send(parent, :trapping)
        receive do
          {:EXIT, from, r} -> {:links, links} = Process.info(self(), :links)
          send(parent, {:a_got, from, r, links})
        end
      end)
    # it traps before the server links to it, however late it first runs
    receive do: (:trapping -> :ok)
    b = spawn(fn -> receive do: (:never -> :ok) end)
    :ok = GenServer.call(:r17_w, {:link_and_monitor, a, b})
    {:monitors, [process: ^b]} = Process.info(w1, :monitors)
    ref = Process.monitor(w1)
    Process.exit(w1, :boom)
    receive do: ({:DOWN, ^ref, _, _, _} -> :ok)
    receive do
      {:a_got, ^w1, r, links} -> IO.puts("r17 linked partner got EXIT #{inspect(r)}, its links now #{inspect(links)}")
    end
    w2 = wait_new(w1)
    {:links, links} = Process.info(w2, :links)
    {:monitors, mons} = Process.info(w2, :monitors)
    IO.puts("r17 restarted server: links only supervisor=#{links == [sup]} monitors=#{inspect(mons)}")
  end

  def wait_new(old) do
    case Process.whereis(:r17_w) do
      p when is_pid(p) and p != old -> p
      _ -> wait_new(old)
    end
  end
end

R17.run()
