# Rule 20: with an unbound name, call exits :noproc, cast is silently dropped, stop exits
# :noproc.
defmodule R20.S do
  use GenServer
  def init(_), do: {:ok, nil}
end

defmodule R20 do
  def run do
    {:ok, _} = GenServer.start(R20.S, nil, name: :r20_srv)
    :ok = GenServer.stop(:r20_srv)
    call =
      try do
        GenServer.call(:r20_srv, :hi)
      catch
        :exit, {r, _} -> "exit #{inspect(r)}"
      end
    IO.puts("r20 call to unbound name: #{call}")
    IO.puts("r20 cast to unbound name: #{inspect(GenServer.cast(:r20_srv, :hi))}")
    stop =
      try do
        GenServer.stop(:r20_srv)
      catch
        :exit, {r, _} -> "exit #{inspect(r)}"
      end
    IO.puts("r20 stop of unbound name: #{stop}")
  end
end

R20.run()
