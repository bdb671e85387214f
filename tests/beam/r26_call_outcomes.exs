# Rule 26: a call returns the reply, or exits with the server's reason, noproc, or timeout;
# the server may still do the work after the caller timed out, and the late reply is dropped.
defmodule R26.S do
  use GenServer
  def init(test), do: {:ok, test}
  def handle_call(:ping, _from, t), do: {:reply, :pong, t}
  def handle_call(:die, _from, t), do: {:stop, :boom, t}
  def handle_call(:slow, from, t) do
    Process.sleep(300)
    GenServer.reply(from, :late)
    send(t, :done)
    {:noreply, t}
  end
end

defmodule R26 do
  def try_call(s, req, timeout) do
    try do
      "reply #{inspect(GenServer.call(s, req, timeout))}"
    catch
      :exit, {reason, {GenServer, :call, _}} -> "exit #{inspect(reason)}"
    end
  end

  def run do
    Logger.configure(level: :none)
    {:ok, s} = GenServer.start(R26.S, self())
    IO.puts("r26 reply: #{try_call(s, :ping, 5000)}")
    IO.puts("r26 timeout: #{try_call(s, :slow, 100)}")
    receive do: (:done -> :ok)
    late =
      receive do
        m -> "got #{inspect(m)}"
      after
        0 -> "nothing"
      end
    IO.puts("r26 after timeout: server did the work, late reply: #{late}")
    IO.puts("r26 server dies: #{try_call(s, :die, 5000)}")
    IO.puts("r26 dead server: #{try_call(s, :ping, 5000)}")
    IO.puts("r26 unregistered name: #{try_call(:r26_nobody, :ping, 5000)}")
  end
end

R26.run()
