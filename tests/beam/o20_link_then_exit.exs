# Ordering 20: a trapping A links B; B exits :boom; A gets {:EXIT, b, :boom} and lives.
defmodule O20 do
  def run do
    Process.flag(:trap_exit, true)
    b = spawn(fn -> receive do: (:die -> exit(:boom)) end)
    Process.link(b)
    send(b, :die)
    receive do
      {:EXIT, ^b, r} -> IO.puts("o20 trapping A linked to B, B exits: EXIT #{inspect(r)}")
    after
      500 -> IO.puts("o20 trapping A linked to B, B exits: no EXIT")
    end
    IO.puts("o20 A alive: #{Process.alive?(self())}")
  end
end

O20.run()
