# Ordering 13: link to a dead pid from a trapping process returns true and delivers
# {:EXIT, pid, :noproc}.
defmodule O13 do
  def run do
    dead = spawn(fn -> :ok end)
    rd = Process.monitor(dead)
    receive do: ({:DOWN, ^rd, _, _, _} -> :ok)
    Process.flag(:trap_exit, true)
    IO.puts("o13 link to dead pid (trapping): returns #{inspect(Process.link(dead))}")
    receive do
      {:EXIT, ^dead, r} -> IO.puts("o13 link to dead pid (trapping): EXIT #{inspect(r)}")
    after
      500 -> IO.puts("o13 link to dead pid (trapping): no EXIT")
    end
  end
end

O13.run()
