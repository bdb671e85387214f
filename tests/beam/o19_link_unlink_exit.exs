# Ordering 19: A links B and then unlinks; B exiting :boom afterwards does not reach A,
# which (not trapping) survives.
defmodule O19 do
  def run do
    parent = self()
    a =
      spawn(fn ->
        b = spawn(fn -> receive do: (:die -> exit(:boom)) end)
        rb = Process.monitor(b)
        Process.link(b)
        Process.unlink(b)
        send(b, :die)
        receive do: ({:DOWN, ^rb, _, _, r} -> send(parent, {:b_down, r}))
        receive do: (:never -> :ok)
      end)
    receive do
      {:b_down, r} -> IO.puts("o19 link, unlink, B exits: B DOWN #{inspect(r)}")
    end
    Process.sleep(50)
    IO.puts("o19 link, unlink, B exits: A alive=#{Process.alive?(a)}")
  end
end

O19.run()
