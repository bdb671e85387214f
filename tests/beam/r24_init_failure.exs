# Rule 24: init {:stop, r}: a trapping caller gets {:error, r}, a non-trapping linked
# caller is killed with r; :ignore returns :ignore; an init beyond its timeout is killed
# and the start returns {:error, :timeout}.
defmodule R24.S do
  use GenServer
  def init(:stop), do: {:stop, :bad_init}
  def init(:ignore), do: :ignore
  def init(:slow) do
    Process.sleep(1000)
    {:ok, nil}
  end
end

defmodule R24 do
  def run do
    Process.flag(:trap_exit, true)
    IO.puts("r24 init stop, trapping caller: #{inspect(GenServer.start_link(R24.S, :stop))}")
    me = self()
    c =
      spawn(fn ->
        r = GenServer.start_link(R24.S, :stop)
        # the link's exit signal kills us, now or at latest in this receive
        send(me, {:returned, r})
        receive do: (:never -> :ok)
      end)
    ref = Process.monitor(c)
    # whether start_link returned before the link's exit signal killed the caller is a
    # race; only the death is determinate
    receive do
      {:DOWN, ^ref, :process, ^c, r} -> IO.puts("r24 init stop, non-trapping caller: died #{inspect(r)}")
    end
    IO.puts("r24 init ignore: #{inspect(GenServer.start_link(R24.S, :ignore))}")
    IO.puts("r24 init beyond timeout: #{inspect(GenServer.start_link(R24.S, :slow, timeout: 100))}")
  end
end

R24.run()
