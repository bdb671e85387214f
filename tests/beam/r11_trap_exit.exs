# Rule 11: a trapping receiver gets {:EXIT, from, reason} as a message; exit(p, :kill) is
# untrappable and kills p with reason :killed, which its links then see.
defmodule R11 do
  def run do
    Process.flag(:trap_exit, true)
    parent = self()
    child =
      spawn_link(fn ->
        Process.flag(:trap_exit, true)
        send(parent, :trapping)
        receive do
          {:EXIT, from, r} -> send(parent, {:got, from == parent, r})
        end
        receive do: (:never -> :ok)
      end)
    receive do: (:trapping -> :ok)
    Process.exit(child, :boom)
    receive do
      {:got, from_parent, r} -> IO.puts("r11 trapping child got EXIT #{inspect(r)} from parent=#{from_parent}")
    end
    IO.puts("r11 child alive after trapped exit: #{Process.alive?(child)}")
    ref = Process.monitor(child)
    Process.exit(child, :kill)
    receive do
      {:DOWN, ^ref, :process, ^child, r} -> IO.puts("r11 kill to trapping child: DOWN #{inspect(r)}")
    end
    receive do
      {:EXIT, ^child, r} -> IO.puts("r11 linked parent sees: EXIT #{inspect(r)}")
    end
  end
end

R11.run()
