# Rule 32: a supervisor traps exits; children start in list order, each start synchronous;
# start_link returns after all children started. which_children lists the children newest
# first (reverse start order).
defmodule R32.W do
  use GenServer
  def start_link({id, prev}), do: GenServer.start_link(__MODULE__, {id, prev}, name: id)
  def init({id, prev}) do
    seen = if prev, do: " (#{prev} registered: #{Process.whereis(prev) != nil})", else: ""
    IO.puts("r32 init #{id}#{seen}")
    send(:r32_test, {:init, id})
    {:ok, id}
  end
end

defmodule R32 do
  def run do
    Logger.configure(level: :none)
    Process.register(self(), :r32_test)
    children = [
      %{id: :r32_a, start: {R32.W, :start_link, [{:r32_a, nil}]}},
      %{id: :r32_b, start: {R32.W, :start_link, [{:r32_b, :r32_a}]}},
      %{id: :r32_c, start: {R32.W, :start_link, [{:r32_c, :r32_b}]}}
    ]
    {:ok, sup} = Supervisor.start_link(children, strategy: :one_for_one)
    ids = Supervisor.which_children(sup) |> Enum.map(fn {id, p, _, _} -> "#{id}:#{is_pid(p)}" end)
    IO.puts("r32 start_link returned; children running: #{Enum.join(ids, " ")}")
    ref = Process.monitor(:r32_b)
    Process.exit(Process.whereis(:r32_b), :boom)
    receive do: ({:DOWN, ^ref, _, _, _} -> :ok)
    for id <- [:r32_a, :r32_b, :r32_c, :r32_b], do: receive(do: ({:init, ^id} -> :ok))
    IO.puts("r32 supervisor survives a child's exit: alive=#{Process.alive?(sup)}")
  end
end

R32.run()
