# Rule 33: a child that fails to start at boot aborts the boot: the children already
# started stop in reverse order, the supervisor exits, and start_link returns
# {:error, {:shutdown, {:failed_to_start_child, id, reason}}}. Later children never start.
defmodule R33.W do
  use GenServer
  def start_link(id), do: GenServer.start_link(__MODULE__, id)
  def init(:c) do
    IO.puts("r33 init c: stop :boom")
    {:stop, :boom}
  end
  def init(id) do
    Process.flag(:trap_exit, true)
    IO.puts("r33 init #{id}")
    {:ok, id}
  end
  def terminate(r, id), do: IO.puts("r33 terminate #{id} #{inspect(r)}")
end

defmodule R33 do
  def run do
    Logger.configure(level: :none)
    Process.flag(:trap_exit, true)
    children = for id <- [:a, :b, :c, :d], do: %{id: id, start: {R33.W, :start_link, [id]}}
    r = Supervisor.start_link(children, strategy: :one_for_one)
    IO.puts("r33 start_link: #{inspect(r)}")
    receive do
      {:EXIT, _sup, reason} -> IO.puts("r33 supervisor exited #{inspect(reason)}")
    end
  end
end

R33.run()
