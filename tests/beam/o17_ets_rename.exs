# Ordering 17: :ets.rename on a named table: the new name reaches the table, the old name
# raises ArgumentError.
defmodule O17 do
  def run do
    :ets.new(:o17_old, [:named_table, :public])
    :ets.insert(:o17_old, {:k, 1})
    IO.puts("o17 rename returns #{inspect(:ets.rename(:o17_old, :o17_new))}")
    IO.puts("o17 lookup by new name: #{inspect(:ets.lookup(:o17_new, :k))}")
    r =
      try do
        {:returned, :ets.lookup(:o17_old, :k)}
      rescue
        e -> {:raised, e.__struct__}
      end
    IO.puts("o17 lookup by old name: #{inspect(r)} info=#{inspect(:ets.info(:o17_old))}")
  end
end

O17.run()
