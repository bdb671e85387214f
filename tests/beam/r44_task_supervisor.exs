# Rule 44: Task.Supervisor.start_child makes the task a temporary child of the task
# supervisor, not linked to the caller; it is shut down with the tree.
defmodule R44 do
  def run do
    Logger.configure(level: :none)
    test = self()
    {:ok, sup} = Task.Supervisor.start_link()
    caller =
      spawn(fn ->
        {:ok, t} = Task.Supervisor.start_child(sup, fn -> receive do: (:never -> :ok) end)
        send(test, {:task, self(), t})
        receive do: ({:exit, r} -> exit(r))
      end)
    t = receive do: ({:task, ^caller, t} -> t)
    ref = Process.monitor(t)
    cref = Process.monitor(caller)
    send(caller, {:exit, :boom})
    receive do: ({:DOWN, ^cref, _, _, _} -> :ok)
    Process.sleep(200)
    IO.puts("r44 caller exits :boom: task alive=#{Process.alive?(t)}, supervised=#{t in Task.Supervisor.children(sup)}")
    {:ok, t2} = Task.Supervisor.start_child(sup, fn -> receive do: (:go -> exit(:crash)) end)
    ref2 = Process.monitor(t2)
    send(t2, :go)
    r = receive do: ({:DOWN, ^ref2, _, _, r} -> r)
    Process.sleep(200)
    n = length(Task.Supervisor.children(sup))
    IO.puts("r44 task crashes (DOWN #{inspect(r)}): starter alive=#{Process.alive?(test)}, children=#{n}, supervisor alive=#{Process.alive?(sup)}")
    :ok = Supervisor.stop(sup)
    r = receive do: ({:DOWN, ^ref, _, _, r} -> r)
    IO.puts("r44 supervisor stopped: task DOWN #{inspect(r)}")
  end
end

R44.run()
