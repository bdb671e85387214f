# Ordering 6: causality through a third process on one node: A sends m1 to C and then a
# message to B; B on receipt sends m2 to C. C receives m1 before m2.
defmodule O06 do
  def run do
    parent = self()
    c =
      spawn(fn ->
        a = receive do: (x when x in [:m1, :m2] -> x)
        b = receive do: (x when x in [:m1, :m2] -> x)
        send(parent, {:c_order, [a, b]})
      end)
    b = spawn(fn -> receive do: ({:relay, c} -> send(c, :m2)) end)
    spawn(fn ->
      send(c, :m1)
      send(b, {:relay, c})
    end)
    receive do
      {:c_order, order} -> IO.puts("o06 A: m1 to C, then B: m2 to C; C received #{inspect(order)}")
    end
  end
end

O06.run()
