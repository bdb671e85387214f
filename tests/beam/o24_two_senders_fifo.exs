# Ordering 24: two senders each send 3 numbered messages to one receiver; per sender-receiver
# pair the order is kept (the interleaving between the two senders is not printed).
defmodule O24 do
  def run do
    parent = self()
    r =
      spawn(fn ->
        got = for _ <- 1..6, do: receive(do: ({s, n} when s in [:a, :b] -> {s, n}))
        send(parent, {:got, got})
      end)
    for s <- [:a, :b], do: spawn(fn -> for n <- 1..3, do: send(r, {s, n}) end)
    receive do
      {:got, got} ->
        for s <- [:a, :b] do
          ns = for {^s, n} <- got, do: n
          IO.puts("o24 sender #{s}: received #{length(ns)}, in send order=#{ns == [1, 2, 3]}")
        end
    end
  end
end

O24.run()
