# Rule 12: exit(p, :normal) sent to a non-trapping p does nothing; a trapping p gets it as
# an EXIT message.
defmodule R12 do
  def pinger(trap) do
    spawn(fn ->
      Process.flag(:trap_exit, trap)
      loop()
    end)
  end

  def loop do
    receive do
      {:ping, from} -> send(from, :pong)
      {:EXIT, from, r} -> send(from, {:exit_msg, r})
    end
    loop()
  end

  def run do
    p = pinger(false)
    ref = Process.monitor(p)
    Process.exit(p, :normal)
    send(p, {:ping, self()})
    receive do
      :pong -> IO.puts("r12 exit normal to non-trapping: still answers")
      {:DOWN, ^ref, _, _, r} -> IO.puts("r12 exit normal to non-trapping: died #{inspect(r)}")
    end
    t = pinger(true)
    send(t, {:ping, self()})
    receive do: (:pong -> :ok)
    Process.exit(t, :normal)
    receive do
      {:exit_msg, r} -> IO.puts("r12 exit normal to trapping: EXIT message #{inspect(r)}")
    end
  end
end

R12.run()
