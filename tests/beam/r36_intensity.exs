# Rule 36: more than max_restarts restarts within max_seconds stop the supervisor: it
# stops its other children in reverse order and exits :shutdown. Restarts older than the
# window no longer count (here max_seconds: 1, so 3 crashes, a 1.1 s pause, 3 more are fine).
defmodule R36.W do
  use GenServer
  def start_link({id, test}), do: GenServer.start_link(__MODULE__, {id, test}, name: id)
  def init({id, test}) do
    Process.flag(:trap_exit, true)
    send(test, {:init, id, self()})
    {:ok, id}
  end
  def handle_cast(:crash, s), do: {:stop, :boom, s}
  def terminate(r, :r36_a), do: IO.puts("r36 terminate r36_a #{inspect(r)}")
  def terminate(_, _), do: :ok
end

defmodule R36 do
  def crash(i) do
    w = Process.whereis(:r36_w)
    ref = Process.monitor(w)
    GenServer.cast(w, :crash)
    receive do: ({:DOWN, ^ref, _, _, _} -> :ok)
    receive do
      {:init, :r36_w, w2} -> IO.puts("r36 crash #{i}: restarted=#{w2 != w}")
    after
      500 -> IO.puts("r36 crash #{i}: not restarted")
    end
  end

  def run do
    Logger.configure(level: :none)
    Process.flag(:trap_exit, true)
    test = self()
    children = for id <- [:r36_a, :r36_w], do: %{id: id, start: {R36.W, :start_link, [{id, test}]}}
    {:ok, sup} = Supervisor.start_link(children, strategy: :one_for_one, max_seconds: 1)
    receive do: ({:init, :r36_a, _} -> :ok)
    receive do: ({:init, :r36_w, _} -> :ok)
    for i <- 1..3, do: crash(i)
    Process.sleep(2100)
    IO.puts("r36 after 2.1 s")
    for i <- 4..6, do: crash(i)
    crash(7)
    receive do
      {:EXIT, ^sup, r} -> IO.puts("r36 supervisor exited #{inspect(r)}")
    end
  end
end

R36.run()
