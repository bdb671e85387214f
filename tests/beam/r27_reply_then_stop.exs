# Rule 27: a server that replies and then stops in the same callback: the caller gets the
# reply.
defmodule R27.S do
  use GenServer
  def init(x), do: {:ok, x}
  def handle_call(:last, _from, s), do: {:stop, :bye, :last_words, s}
  def handle_call(:last_reply, from, s) do
    GenServer.reply(from, :replied)
    exit(:gone)
    {:noreply, s}
  end
end

defmodule R27 do
  def run do
    Logger.configure(level: :none)
    {:ok, s} = GenServer.start(R27.S, nil)
    ref = Process.monitor(s)
    IO.puts("r27 stop with reply: caller got #{inspect(GenServer.call(s, :last))}")
    receive do
      {:DOWN, ^ref, :process, _, r} -> IO.puts("r27 stop with reply: server exited #{inspect(r)}")
    end
    {:ok, s2} = GenServer.start(R27.S, nil)
    ref2 = Process.monitor(s2)
    IO.puts("r27 reply then exit: caller got #{inspect(GenServer.call(s2, :last_reply))}")
    receive do
      {:DOWN, ^ref2, :process, _, r} -> IO.puts("r27 reply then exit: server exited #{inspect(r)}")
    end
  end
end

R27.run()
