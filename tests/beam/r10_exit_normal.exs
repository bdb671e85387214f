# Rule 10: a non-trapping receiver ignores reason normal from another process; any other
# reason kills it with the same reason.
defmodule R10 do
  def linker(parent, child) do
    spawn(fn ->
      Process.link(child)
      send(parent, :linked)
      receive do
        {:exit, r} -> exit(r)
      end
    end)
  end

  def run do
    parent = self()
    child = spawn(fn -> receive do: (:stop -> :ok) end)
    ref = Process.monitor(child)
    l1 = linker(parent, child)
    receive do: (:linked -> :ok)
    m1 = Process.monitor(l1)
    send(l1, {:exit, :normal})
    receive do: ({:DOWN, ^m1, _, _, _} -> :ok)
    # The linker is dead and its exit signal was sent before its DOWN; a round trip to
    # the child (which only answers :ping when alive) settles whether it died.
    IO.puts("r10 linked exit normal: child alive=#{Process.alive?(child)}")
    l2 = linker(parent, child)
    receive do: (:linked -> :ok)
    send(l2, {:exit, :boom})
    receive do
      {:DOWN, ^ref, :process, ^child, reason} -> IO.puts("r10 linked exit boom: child exited #{inspect(reason)}")
    end
  end
end

R10.run()
