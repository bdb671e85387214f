# Rule 28: a failed call is an exit, not an error: `rescue` does not catch it, `catch :exit`
# does.
defmodule R28 do
  def run do
    Logger.configure(level: :none)
    test = self()
    {pid, ref} =
      spawn_monitor(fn ->
        try do
          GenServer.call(:r28_nobody, :ping)
        rescue
          _ -> send(test, :rescued)
        end
        send(test, :survived)
      end)
    receive do
      {:DOWN, ^ref, :process, ^pid, reason} ->
        IO.puts("r28 rescue only: caller exited with a call exit: #{match?({:noproc, {GenServer, :call, _}}, reason)}")
    end
    got =
      receive do
        m -> inspect(m)
      after
        0 -> "nothing"
      end
    IO.puts("r28 rescue only: caller sent #{got}")
    {pid2, ref2} =
      spawn_monitor(fn ->
        try do
          GenServer.call(:r28_nobody, :ping)
        catch
          :exit, {r, _} -> send(test, {:caught, r})
        end
      end)
    receive do
      {:caught, r} -> IO.puts("r28 catch :exit: caught #{inspect(r)}")
    end
    receive do
      {:DOWN, ^ref2, :process, ^pid2, reason} -> IO.puts("r28 catch :exit: caller exited #{inspect(reason)}")
    end
  end
end

R28.run()
