# Ordering 18: :ets.give_away/3 sends the new owner {:"ETS-TRANSFER", tab, from, data}; the
# table then outlives the old owner and dies with the new one; giving to a dead pid raises.
defmodule O18 do
  def run do
    test = self()
    heir =
      spawn(fn ->
        receive do
          {:"ETS-TRANSFER", tab, from, data} -> send(test, {:transfer, tab, from, data})
        end
        receive do: (:stop -> :ok)
      end)
    old =
      spawn(fn ->
        t = :ets.new(:o18_t, [:named_table, :public])
        :ets.give_away(t, heir, :gift)
        receive do: (:stop -> :ok)
      end)
    receive do
      {:transfer, tab, from, data} ->
        IO.puts("o18 heir got ETS-TRANSFER: tab=#{inspect(tab)} from old owner=#{from == old} data=#{inspect(data)}")
    end
    IO.puts("o18 owner after give_away is heir: #{:ets.info(:o18_t, :owner) == heir}")
    stop(old)
    IO.puts("o18 old owner died: table exists=#{:ets.info(:o18_t) != :undefined}")
    stop(heir)
    IO.puts("o18 new owner died: table exists=#{:ets.info(:o18_t) != :undefined}")
    dead = spawn(fn -> :ok end)
    stop(dead)
    t = :ets.new(:o18_mine, [])
    r =
      try do
        {:returned, :ets.give_away(t, dead, :x)}
      rescue
        e -> {:raised, e.__struct__}
      end
    IO.puts("o18 give_away to a dead pid: #{inspect(r)}")
  end

  defp stop(p) do
    ref = Process.monitor(p)
    send(p, :stop)
    receive do: ({:DOWN, ^ref, _, _, _} -> :ok)
  end
end

O18.run()
