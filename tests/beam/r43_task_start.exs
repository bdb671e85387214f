# Rule 43: Task.start is an unlinked spawn; it survives any caller exit, and its crash does
# not touch the caller.
defmodule R43 do
  def run do
    Logger.configure(level: :none)
    test = self()
    for reason <- [:boom, :shutdown, :kill] do
      caller =
        spawn(fn ->
          {:ok, t} = Task.start(fn -> receive do: (:never -> :ok) end)
          send(test, {:task, self(), t})
          receive do: ({:exit, r} -> exit(r))
        end)
      t = receive do: ({:task, ^caller, t} -> t)
      cref = Process.monitor(caller)
      Process.exit(caller, reason)
      r = receive do: ({:DOWN, ^cref, _, _, r} -> r)
      Process.sleep(200)
      IO.puts("r43 caller exits #{inspect(r)}: task alive=#{Process.alive?(t)}")
      Process.exit(t, :kill)
    end
    caller =
      spawn(fn ->
        {:ok, t} = Task.start(fn -> receive do: (:go -> exit(:crash)) end)
        send(test, {:task, self(), t})
        receive do: (:never -> :ok)
      end)
    t = receive do: ({:task, ^caller, t} -> t)
    ref = Process.monitor(t)
    send(t, :go)
    r = receive do: ({:DOWN, ^ref, _, _, r} -> r)
    Process.sleep(200)
    IO.puts("r43 task crashes (DOWN #{inspect(r)}): caller alive=#{Process.alive?(caller)}")
  end
end

R43.run()
