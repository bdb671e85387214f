# Rule 42: Task.start_link is a spawn_link from the caller. Caller exits abnormally or with
# shutdown: the task dies. Caller exits normal: the task runs on. Task crashes: a
# non-trapping caller is killed.
defmodule R42 do
  def run do
    Logger.configure(level: :none)
    test = self()
    for reason <- [:boom, :shutdown, :normal] do
      caller =
        spawn(fn ->
          {:ok, t} =
            Task.start_link(fn ->
              receive do: ({:hello, from} -> send(from, :ack))
              receive do: (:never -> :ok)
            end)
          send(test, {:task, self(), t})
          receive do: ({:exit, r} -> exit(r))
        end)
      t = receive do: ({:task, ^caller, t} -> t)
      ref = Process.monitor(t)
      cref = Process.monitor(caller)
      send(t, {:hello, self()})
      receive do: (:ack -> :ok)
      send(caller, {:exit, reason})
      receive do: ({:DOWN, ^cref, _, _, _} -> :ok)
      if reason == :normal do
        Process.sleep(200)
        IO.puts("r42 caller exits #{inspect(reason)}: task alive=#{Process.alive?(t)}")
        Process.exit(t, :kill)
        receive do: ({:DOWN, ^ref, _, _, _} -> :ok)
      else
        r = receive do: ({:DOWN, ^ref, _, _, r} -> r)
        IO.puts("r42 caller exits #{inspect(reason)}: task DOWN #{inspect(r)}")
      end
    end
    for trap <- [false, true] do
      caller =
        spawn(fn ->
          Process.flag(:trap_exit, trap)
          {:ok, t} = Task.start_link(fn -> receive do: (:go -> exit(:crash)) end)
          send(test, {:task, self(), t})
          receive do: (:go -> send(t, :go))
          receive do: ({:EXIT, ^t, r} -> send(test, {:got, r}))
          receive do: (:never -> :ok)
        end)
      _t = receive do: ({:task, ^caller, t} -> t)
      cref = Process.monitor(caller)
      send(caller, :go)
      if trap do
        r = receive do: ({:got, r} -> r)
        IO.puts("r42 task crashes: trapping caller gets EXIT #{inspect(r)}, alive=#{Process.alive?(caller)}")
        Process.exit(caller, :kill)
      else
        r = receive do: ({:DOWN, ^cref, _, _, r} -> r)
        IO.puts("r42 task crashes: non-trapping caller DOWN #{inspect(r)}")
      end
    end
  end
end

R42.run()
