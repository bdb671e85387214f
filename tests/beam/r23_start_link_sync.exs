# Rule 23: start_link returns only after init has returned, and links the server to its
# caller (so the server dies with its parent).
defmodule R23.S do
  use GenServer
  def init(parent) do
    send(parent, :init_begin)
    Process.sleep(50)
    send(parent, :init_end)
    {:ok, nil}
  end

  def handle_call(:ping, _from, s), do: {:reply, :pong, s}
end

defmodule R23 do
  def run do
    me = self()
    {:ok, s} = GenServer.start_link(R23.S, me)
    done =
      receive do
        :init_end -> true
      after
        0 -> false
      end
    IO.puts("r23 start_link returned after init: #{done}")
    {:links, links} = Process.info(self(), :links)
    IO.puts("r23 caller linked to server: #{s in links}")
    mid =
      spawn(fn ->
        {:ok, s2} = GenServer.start_link(R23.S, me)
        send(me, {:server, s2})
        receive do: (:go -> exit(:boom))
      end)
    s2 = receive do: ({:server, s2} -> s2)
    ref = Process.monitor(s2)
    :pong = GenServer.call(s2, :ping)
    send(mid, :go)
    receive do
      {:DOWN, ^ref, :process, ^s2, r} -> IO.puts("r23 parent exits :boom: server DOWN #{inspect(r)}")
    end
  end
end

R23.run()
