# Rule 4: a signal to a dead process is dropped; monitor gives DOWN noproc; link from a
# trapping process gives EXIT noproc; send is a no-op.
defmodule R04 do
  def run do
    dead = spawn(fn -> :ok end)
    ref = Process.monitor(dead)
    receive do
      {:DOWN, ^ref, :process, ^dead, _} -> :ok
    end
    send(dead, :hello)
    IO.puts("r04 send to dead: ok")
    ref2 = Process.monitor(dead)
    receive do
      {:DOWN, ^ref2, :process, ^dead, reason} -> IO.puts("r04 monitor dead: DOWN #{inspect(reason)}")
    end
    Process.flag(:trap_exit, true)
    Process.link(dead)
    receive do
      {:EXIT, ^dead, reason} -> IO.puts("r04 link dead (trapping): EXIT #{inspect(reason)}")
    after
      1000 -> IO.puts("r04 link dead (trapping): nothing")
    end
  end
end

R04.run()
