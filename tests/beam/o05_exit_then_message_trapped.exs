# Ordering 5: a trapping P gets exit(p, :boom) then a message from the same sender; the
# {:EXIT, ...} message and the plain message land in its mailbox in send order.
defmodule O05 do
  def run do
    parent = self()
    p =
      spawn(fn ->
        Process.flag(:trap_exit, true)
        send(parent, :trapping)
        got =
          for _ <- 1..2 do
            receive do
              {:EXIT, ^parent, r} -> {:exit, r}
              m -> {:msg, m}
            end
          end
        send(parent, {:order, got})
      end)
    ref = Process.monitor(p)
    receive do: (:trapping -> :ok)
    Process.exit(p, :boom)
    send(p, :hello)
    receive do
      {:order, got} -> IO.puts("o05 exit then message (trapping): received #{inspect(got)}")
    end
    receive do
      {:DOWN, ^ref, :process, ^p, r} -> IO.puts("o05 P after reporting (exit was trapped): DOWN #{inspect(r)}")
    end
  end
end

O05.run()
