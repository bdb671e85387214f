# Ordering 8: once the target has died and its DOWN is already in the mailbox, demonitor
# without :flush does not remove it; [:info] reports false (no active monitor was removed).
defmodule O08 do
  def run do
    p = spawn(fn -> receive do: (:die -> exit(:boom)) end)
    ref = Process.monitor(p)
    send(p, :die)
    wait_down_queued(ref)
    IO.puts("o08 DOWN queued: demonitor(ref, [:info]) = #{inspect(Process.demonitor(ref, [:info]))}")
    IO.puts("o08 DOWN queued: demonitor(ref) = #{inspect(Process.demonitor(ref))}")
    receive do
      {:DOWN, ^ref, :process, ^p, r} -> IO.puts("o08 DOWN still in mailbox: #{inspect(r)}")
    after
      0 -> IO.puts("o08 DOWN still in mailbox: none")
    end
  end

  defp wait_down_queued(ref) do
    {:messages, ms} = Process.info(self(), :messages)
    if Enum.any?(ms, &match?({:DOWN, ^ref, _, _, _}, &1)), do: :ok, else: (Process.sleep(1); wait_down_queued(ref))
  end
end

O08.run()
