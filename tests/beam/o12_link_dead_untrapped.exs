# Ordering 12: link to a dead pid from a non-trapping process raises a noproc error in the
# caller (it is not killed by a noproc exit signal).
defmodule O12 do
  def run do
    parent = self()
    dead = spawn(fn -> :ok end)
    rd = Process.monitor(dead)
    receive do: ({:DOWN, ^rd, _, _, _} -> :ok)
    p =
      spawn(fn ->
        r =
          try do
            {:returned, Process.link(dead)}
          catch
            kind, reason -> {kind, reason}
          end
        send(parent, {:caught, r})
      end)
    ref = Process.monitor(p)
    receive do
      {:caught, r} -> IO.puts("o12 link to dead pid (not trapping): #{inspect(r)}")
    end
    receive do
      {:DOWN, ^ref, :process, ^p, r} -> IO.puts("o12 linking process then exits: #{inspect(r)}")
    end
  end
end

O12.run()
