# Stress (a): o01/o02's pattern, spawn then Process.monitor of a child that exits at once,
# run N times in one VM; counts the DOWN reasons (:normal / :boom when the monitor was set
# before the child exited, :noproc when the child was already gone).
# Run: elixir --erl "+S 2" tests/beam/stress/spawn_then_monitor.exs   (N=... to override)
defmodule StressSpawnMonitor do
  @n 200_000
  def run do
    n = String.to_integer(System.get_env("N") || "#{@n}")

    for mode <- [:idle, :loaded],
        {label, f} <- [{"returns", fn -> :ok end}, {"exit(:boom)", fn -> exit(:boom) end}] do
      counts =
        with_load(mode, fn ->
          Enum.reduce(1..n, %{}, fn _, acc ->
            c = spawn(f)
            ref = Process.monitor(c)
            r = receive do: ({:DOWN, ^ref, :process, ^c, r} -> r)
            Map.update(acc, r, 1, &(&1 + 1))
          end)
        end)

      IO.puts("stress spawn_then_monitor #{mode} child #{label}: N=#{n} #{inspect(counts)}")
    end
  end

  # Background load that keeps the other schedulers waking up and stealing work: one process
  # spawning short-lived processes, and 50 processes sleeping 1 ms in a loop.
  defp with_load(:idle, f), do: f.()

  defp with_load(:loaded, f) do
    churn = spawn(fn -> churn() end)
    sleepers = for _ <- 1..50, do: spawn(fn -> sleeper() end)
    r = f.()
    Enum.each([churn | sleepers], &Process.exit(&1, :kill))
    r
  end

  defp churn do
    spawn(fn -> :ok end)
    :erlang.yield()
    churn()
  end

  defp sleeper do
    Process.sleep(1)
    sleeper()
  end
end

StressSpawnMonitor.run()
