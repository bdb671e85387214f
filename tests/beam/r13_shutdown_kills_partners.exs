# Rule 13: shutdown and {shutdown, _} still kill non-trapping linked partners (and reach
# trapping ones as EXIT messages); only normal is ignored.
defmodule R13 do
  def run do
    parent = self()
    for reason <- [:normal, :shutdown, {:shutdown, :bye}] do
      partner =
        spawn(fn ->
          receive do: ({:ping, from} -> send(from, :pong))
          receive do: (:never -> :ok)
        end)
      trapper =
        spawn(fn ->
          Process.flag(:trap_exit, true)
          send(parent, :trapping)
          receive do
            {:EXIT, _, r} -> send(parent, {:trapped, r})
          end
        end)
      # it traps before the dier links to it, however late it first runs
      receive do: (:trapping -> :ok)
      dier =
        spawn(fn ->
          Process.link(partner)
          Process.link(trapper)
          send(parent, :linked)
          receive do: ({:die, r} -> exit(r))
        end)
      receive do: (:linked -> :ok)
      pref = Process.monitor(partner)
      # a round trip after the monitor: it is in place before the dier dies
      send(partner, {:ping, self()})
      receive do: (:pong -> :ok)
      dref = Process.monitor(dier)
      send(dier, {:die, reason})
      receive do: ({:DOWN, ^dref, _, _, _} -> :ok)
      receive do
        {:trapped, r} -> IO.puts("r13 #{inspect(reason)}: trapping partner got EXIT #{inspect(r)}")
      end
      if reason == :normal do
        IO.puts("r13 #{inspect(reason)}: partner alive=#{Process.alive?(partner)}")
        Process.exit(partner, :kill)
      else
        receive do
          {:DOWN, ^pref, _, _, r} -> IO.puts("r13 #{inspect(reason)}: non-trapping partner died #{inspect(r)}")
        end
      end
    end
  end
end

R13.run()
