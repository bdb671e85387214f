# Rule 35: one_for_one restarts only the failed child; one_for_all stops the others in
# reverse start order and restarts all in order; rest_for_one stops the children started
# after the failed one (reverse order) and restarts it and them in order.
defmodule R35.W do
  use GenServer
  def start_link({st, id}), do: GenServer.start_link(__MODULE__, {st, id})
  def init({st, id}) do
    Process.flag(:trap_exit, true)
    IO.puts("r35 #{st}: init #{id}")
    {:ok, {st, id}}
  end
  def handle_cast(:crash, s), do: {:stop, :boom, s}
  def terminate(r, {st, id}), do: IO.puts("r35 #{st}: terminate #{id} #{inspect(r)}")
end

defmodule R35 do
  def run do
    Logger.configure(level: :none)
    for st <- [:one_for_one, :one_for_all, :rest_for_one] do
      children = for id <- [:a, :b, :c], do: %{id: id, start: {R35.W, :start_link, [{st, id}]}}
      {:ok, sup} = Supervisor.start_link(children, strategy: st)
      old = Supervisor.which_children(sup) |> Map.new(fn {id, p, _, _} -> {id, p} end)
      IO.puts("r35 #{st}: crash b")
      ref = Process.monitor(old[:b])
      GenServer.cast(old[:b], :crash)
      receive do: ({:DOWN, ^ref, _, _, _} -> :ok)
      Process.sleep(200)
      new = Supervisor.which_children(sup) |> Map.new(fn {id, p, _, _} -> {id, p} end)
      ids = for id <- [:a, :b, :c] do
        "#{id}=#{if new[id] == old[id], do: "same", else: if(is_pid(new[id]), do: "new", else: "none")}"
      end
      IO.puts("r35 #{st}: pids after #{Enum.join(ids, " ")}")
      Process.unlink(sup)
      ref = Process.monitor(sup)
      Process.exit(sup, :shutdown)
      receive do: ({:DOWN, ^ref, _, _, _} -> :ok)
    end
  end
end

R35.run()
