# Rule 49: a table belongs to the process that created it and is deleted when that process
# dies (before its DOWN goes out); later access raises.
defmodule R49 do
  def run do
    test = self()
    owner =
      spawn(fn ->
        :ets.new(:r49_t, [:named_table, :public])
        :ets.insert(:r49_t, {:k, 1})
        send(test, :ready)
        receive do: (:stop -> exit(:boom))
      end)
    ref = Process.monitor(owner)
    receive do: (:ready -> :ok)
    IO.puts("r49 owner alive: lookup #{inspect(:ets.lookup(:r49_t, :k))}")
    send(owner, :stop)
    receive do: ({:DOWN, ^ref, _, _, _} -> :ok)
    IO.puts("r49 at owner's DOWN: table exists=#{:ets.info(:r49_t) != :undefined}")
    r =
      try do
        :ets.lookup(:r49_t, :k)
        "returned"
      rescue
        ArgumentError -> "raises ArgumentError"
      end
    IO.puts("r49 at owner's DOWN: lookup #{r}")
  end
end

R49.run()
