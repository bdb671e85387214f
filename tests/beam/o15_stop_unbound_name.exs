# Ordering 15: GenServer.stop on a name nobody holds exits the caller with
# {:noproc, {GenServer, :stop, [name, :normal, :infinity]}}.
defmodule O15 do
  def run do
    r =
      try do
        GenServer.stop(:o15_unbound)
      catch
        :exit, r -> r
      end
    {tag, {m, f, args}} = r
    IO.puts("o15 stop unbound name: exit #{inspect(tag)} from #{inspect({m, f})} args #{inspect(args)}")
  end
end

O15.run()
