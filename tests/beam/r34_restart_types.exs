# Rule 34: permanent children are always restarted; transient ones unless the reason is
# normal, shutdown or {shutdown, _}; temporary ones never, and their spec is dropped.
defmodule R34.W do
  use GenServer
  def start_link(_), do: GenServer.start_link(__MODULE__, nil)
  def init(s), do: {:ok, s}
  def handle_cast({:stop, r}, s), do: {:stop, r, s}
end

defmodule R34 do
  def run do
    Logger.configure(level: :none)
    for type <- [:permanent, :transient, :temporary],
        reason <- [:normal, :shutdown, {:shutdown, :x}, :boom] do
      spec = %{id: :w, start: {R34.W, :start_link, [nil]}, restart: type}
      {:ok, sup} = Supervisor.start_link([spec], strategy: :one_for_one)
      [{:w, w, _, _}] = Supervisor.which_children(sup)
      ref = Process.monitor(w)
      GenServer.cast(w, {:stop, reason})
      receive do: ({:DOWN, ^ref, _, _, _} -> :ok)
      Process.sleep(200)
      after_ = case Supervisor.which_children(sup) do
        [] -> "spec dropped"
        [{:w, :undefined, _, _}] -> "not restarted, spec kept"
        [{:w, p, _, _}] when p != w -> "restarted"
      end
      IO.puts("r34 #{type} after #{inspect(reason)}: #{after_}")
      Process.unlink(sup)
      ref = Process.monitor(sup)
      Process.exit(sup, :shutdown)
      receive do: ({:DOWN, ^ref, _, _, _} -> :ok)
    end
  end
end

R34.run()
