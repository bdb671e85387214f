# Ordering 23: spawn_monitor is atomic: a child that returns at once gives DOWN :normal (never
# :noproc); spawn_link from a trapping parent of a child that crashes at once gives EXIT.
defmodule O23 do
  def run do
    {p, ref} = spawn_monitor(fn -> :ok end)
    receive do
      {:DOWN, ^ref, :process, ^p, r} -> IO.puts("o23 spawn_monitor, child returns: DOWN #{inspect(r)}")
    end
    {p, ref} = spawn_monitor(fn -> exit(:boom) end)
    receive do
      {:DOWN, ^ref, :process, ^p, r} -> IO.puts("o23 spawn_monitor, child exits :boom: DOWN #{inspect(r)}")
    end
    Process.flag(:trap_exit, true)
    c = spawn_link(fn -> exit(:crash) end)
    receive do
      {:EXIT, ^c, r} -> IO.puts("o23 spawn_link (trapping), child exits :crash: EXIT #{inspect(r)}")
    end
    c = spawn_link(fn -> raise ArgumentError, "bad" end)
    receive do
      {:EXIT, ^c, {e, st}} ->
        IO.puts("o23 spawn_link (trapping), child raises: EXIT {#{inspect(e.__struct__)}, stacktrace is list=#{is_list(st)}}")
    end
  end
end

Logger.configure(level: :none)
O23.run()
