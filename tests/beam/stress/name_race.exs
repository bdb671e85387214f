# Stress (c): two processes spawned back to back both call Process.register(self(), :n);
# counts which one wins (first or second spawned), N times. Both stay alive until both have
# reported, then exit; the next round starts after both DOWNs (the name is free by then).
# Run: elixir --erl "+S 2" tests/beam/stress/name_race.exs   (N=... to override)
defmodule StressNameRace do
  @n 200_000
  def run do
    n = String.to_integer(System.get_env("N") || "#{@n}")
    parent = self()

    racer = fn id ->
      fn ->
        won =
          try do
            Process.register(self(), :stress_n)
          rescue
            ArgumentError -> false
          end

        send(parent, {id, won})
        receive do: (:done -> :ok)
      end
    end

    for mode <- [:idle, :loaded] do
      counts =
        with_load(mode, fn ->
          Enum.reduce(1..n, %{}, fn _, acc ->
            {p1, r1} = spawn_monitor(racer.(:first))
            {p2, r2} = spawn_monitor(racer.(:second))
            w1 = receive do: ({:first, w} -> w)
            w2 = receive do: ({:second, w} -> w)
            send(p1, :done)
            send(p2, :done)
            receive do: ({:DOWN, ^r1, :process, ^p1, _} -> :ok)
            receive do: ({:DOWN, ^r2, :process, ^p2, _} -> :ok)

            k =
              case {w1, w2} do
                {true, false} -> :first_spawned_won
                {false, true} -> :second_spawned_won
                other -> other
              end

            Map.update(acc, k, 1, &(&1 + 1))
          end)
        end)

      IO.puts("stress name race #{mode}: N=#{n} #{inspect(counts)}")
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

StressNameRace.run()
