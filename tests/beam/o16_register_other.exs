# Ordering 16: a process may register another live process; registering a dead pid raises
# ArgumentError; the name is freed when the registered process dies.
defmodule O16 do
  def run do
    other = spawn(fn -> receive do: (:stop -> :ok) end)
    Process.register(other, :o16_n)
    IO.puts("o16 register other pid: whereis is other=#{Process.whereis(:o16_n) == other}")
    dead = spawn(fn -> :ok end)
    rd = Process.monitor(dead)
    receive do: ({:DOWN, ^rd, _, _, _} -> :ok)
    r =
      try do
        {:returned, Process.register(dead, :o16_dead)}
      rescue
        e -> {:raised, e.__struct__}
      end
    IO.puts("o16 register dead pid: #{inspect(r)} whereis=#{inspect(Process.whereis(:o16_dead))}")
    ref = Process.monitor(other)
    send(other, :stop)
    receive do: ({:DOWN, ^ref, _, _, _} -> :ok)
    IO.puts("o16 registered other died: whereis=#{inspect(Process.whereis(:o16_n))}")
  end
end

O16.run()
