# Ordering 11: GenServer.call(self(), ...) does not deadlock: it exits at once with
# {:calling_self, {GenServer, :call, [pid, msg, timeout]}}.
defmodule O11 do
  def run do
    r =
      try do
        GenServer.call(self(), :x)
      catch
        :exit, r -> r
      end
    {tag, {m, f, args}} = r
    IO.puts("o11 call to self: exit #{inspect(tag)} from #{inspect({m, f})}")
    IO.puts("o11 call to self: args are [self, msg, timeout]: #{inspect(match?([_, :x, 5000], args) and hd(args) == self())}")
  end
end

O11.run()
