# Rule 48: send_after to a pid is cancelled when the pid dies; to a name, the name is
# resolved at delivery, so the timer survives the process and fires into the next one.
defmodule R48 do
  def run do
    test = self()
    p = spawn(fn -> receive do: (:never -> :ok) end)
    ref = Process.monitor(p)
    t = Process.send_after(p, :tick, 1000)
    Process.exit(p, :kill)
    receive do: ({:DOWN, ^ref, _, _, _} -> :ok)
    Process.sleep(100)
    IO.puts("r48 to a pid that died: cancel_timer=#{inspect(Process.cancel_timer(t))}")
    p1 =
      spawn(fn ->
        Process.register(self(), :r48_srv)
        send(test, :registered)
        receive do: (:never -> :ok)
      end)
    ref1 = Process.monitor(p1)
    receive do: (:registered -> :ok)
    Process.send_after(:r48_srv, :tick, 500)
    Process.exit(p1, :kill)
    receive do: ({:DOWN, ^ref1, _, _, _} -> :ok)
    spawn(fn ->
      Process.register(self(), :r48_srv)
      send(test, :registered)
      receive do: (:tick -> send(test, :next_got_tick))
    end)
    receive do: (:registered -> :ok)
    receive do
      :next_got_tick -> IO.puts("r48 to a name: the next incarnation got the tick")
    after
      3000 -> IO.puts("r48 to a name: nothing")
    end
  end
end

R48.run()
