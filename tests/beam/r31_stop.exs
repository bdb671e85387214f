# Rule 31: stop is synchronous; a supervisor treats it as any exit: a permanent child is
# restarted even after normal, and the restart counts toward intensity.
defmodule R31.S do
  use GenServer
  def start_link(test), do: GenServer.start_link(__MODULE__, test, name: :r31_w)
  def init(test) do
    send(test, {:init, self()})
    {:ok, test}
  end
  def terminate(r, t), do: send(t, {:terminate, r})
end

defmodule R31 do
  def run do
    Logger.configure(level: :none)
    test = self()
    {:ok, s} = GenServer.start(R31.S, test)
    receive do: ({:init, _} -> :ok)
    :ok = GenServer.stop(s)
    IO.puts("r31 stop returned: alive=#{Process.alive?(s)}")
    receive do
      {:terminate, r} -> IO.puts("r31 stop: terminate #{inspect(r)}")
    after
      0 -> IO.puts("r31 stop: no terminate")
    end
    Process.flag(:trap_exit, true)
    {:ok, sup} = Supervisor.start_link([%{id: :w, start: {R31.S, :start_link, [test]}}], strategy: :one_for_one)
    w = receive do: ({:init, w} -> w)
    Enum.reduce(1..3, w, fn i, w ->
      :ok = GenServer.stop(:r31_w)
      receive do: ({:terminate, _} -> :ok)
      w2 = receive do: ({:init, w2} -> w2)
      IO.puts("r31 stop #{i} (normal): permanent child restarted=#{w2 != w}")
      w2
    end)
    :ok = GenServer.stop(:r31_w)
    receive do
      {:EXIT, ^sup, r} -> IO.puts("r31 stop 4: supervisor exited #{inspect(r)}")
    end
  end
end

R31.run()
