# Stress (d): o06's pattern, causal order through a third process: A sends m1 to C, then a
# message to B, which sends m2 to C; counts the order C receives them in, N times.
# Run: elixir --erl "+S 2" tests/beam/stress/causal_third.exs   (N=... to override)
defmodule StressCausal do
  @n 200_000
  def run do
    n = String.to_integer(System.get_env("N") || "#{@n}")
    parent = self()

    for mode <- [:idle, :loaded] do
      counts =
        with_load(mode, fn ->
          Enum.reduce(1..n, %{}, fn _, acc ->
            c =
              spawn(fn ->
                x = receive do: (x when x in [:m1, :m2] -> x)
                y = receive do: (y when y in [:m1, :m2] -> y)
                send(parent, {:order, [x, y]})
              end)

            b = spawn(fn -> receive do: ({:relay, c} -> send(c, :m2)) end)

            spawn(fn ->
              send(c, :m1)
              send(b, {:relay, c})
            end)

            o = receive do: ({:order, o} -> o)
            Map.update(acc, o, 1, &(&1 + 1))
          end)
        end)

      IO.puts("stress causal order via third process #{mode}: N=#{n} #{inspect(counts)}")
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

StressCausal.run()
