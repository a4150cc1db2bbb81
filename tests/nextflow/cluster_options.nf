/*
    One task labelled process_gpu, for tests/nextflow/test_validation.py: with a site's
    process-wide clusterOptions and conf/gpu.config, a stand-in `sbatch` records the #SBATCH
    lines Nextflow wrote for it (and refuses the job: nothing runs).
*/

process GPU_TASK {
    label 'process_gpu'

    script:
    """
    true
    """
}

workflow {
    GPU_TASK()
}
