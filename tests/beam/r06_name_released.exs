# Rule 6: a dying process releases its name before its link EXIT and monitor DOWN go out,
# whether it exits by itself or is killed by an exit signal.
defmodule R06 do
  def holder(parent) do
    spawn_link(fn ->
      Process.register(self(), :r06_n)
      send(parent, :registered)
      receive do: (:go -> exit(:boom))
    end)
  end

  def run do
    Process.flag(:trap_exit, true)
    parent = self()
    for {label, stay} <- [{"exits itself", false}, {"killed by signal", true}] do
      h = holder(parent)
      ref = Process.monitor(h)
      receive do: (:registered -> :ok)
      if stay, do: Process.exit(h, :boom), else: send(h, :go)
      receive do
        {:EXIT, ^h, r} -> IO.puts("r06 #{label}: at EXIT #{inspect(r)} name=#{inspect(Process.whereis(:r06_n))}")
      end
      receive do
        {:DOWN, ^ref, :process, ^h, r} -> IO.puts("r06 #{label}: at DOWN #{inspect(r)} name=#{inspect(Process.whereis(:r06_n))}")
      end
    end
  end
end

R06.run()
